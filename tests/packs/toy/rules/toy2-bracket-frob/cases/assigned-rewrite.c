static int foo_kick(struct foo_dev *dev)
{
	int err;

	err = frob(dev);
	return err;
}
