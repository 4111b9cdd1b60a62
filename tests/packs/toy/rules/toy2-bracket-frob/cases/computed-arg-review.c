/* review: not a plain expression */
static void foo_kick(struct foo_dev *devs)
{
	frob(pick(devs));
}
