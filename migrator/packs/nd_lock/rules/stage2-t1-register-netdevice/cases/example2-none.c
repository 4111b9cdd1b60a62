static int foo_probe(struct platform_device *pdev)
{
	return register_netdevice(foo_dev);
}
