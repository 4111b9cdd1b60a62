/* review: not a statement of its own */
static int foo_kick(struct foo_dev *dev)
{
	return frob(dev) ? -EBUSY : 0;
}
