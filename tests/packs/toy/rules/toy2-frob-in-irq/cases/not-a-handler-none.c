static void foo_kick(struct foo_dev *dev)
{
	frob(dev);
}
