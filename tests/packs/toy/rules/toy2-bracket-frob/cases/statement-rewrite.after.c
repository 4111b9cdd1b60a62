static void foo_kick(struct foo_dev *dev)
{
	int n = 0;

	if (dev->up) {
		bar_lock(dev);
		frob(dev);
		bar_unlock(dev);
	}
	n++;
}
