static int foo_kick(struct foo_dev *dev)
{
	int err;

	bar_lock(dev);
	err = frob(dev);
	bar_unlock(dev);
	return err;
}
