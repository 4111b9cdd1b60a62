static void foo_kick(struct foo_dev *dev)
{
	bar_lock(dev);
	frob(dev);
	bar_unlock(dev);
}
