static void foo_kick(struct foo_dev *dev)
{
	int n = 0;

	if (dev->up)
		frob(dev);
	n++;
}
