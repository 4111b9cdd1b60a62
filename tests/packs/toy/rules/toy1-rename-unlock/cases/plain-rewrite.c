static void foo_reset(struct foo_dev *dev)
{
	foo_lock(dev);
	dev->state = 0;
	foo_unlock(dev);
}
