/* review: an interrupt handler */
static irqreturn_t foo_irq(int irq, void *data)
{
	struct foo_dev *dev = data;

	frob(dev);
	return IRQ_HANDLED;
}

static int foo_open(struct foo_dev *dev)
{
	return request_irq(dev->irq, foo_irq, 0, "foo", dev);
}
