static void foo_reset(struct foo_dev *dev)
{
	bar_lock(dev);
	dev->state = 0;
	bar_unlock(dev);
}
