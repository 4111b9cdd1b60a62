static void example_global_work(struct work_struct *work)
{
	rtnl_lock();
	example_flush_all();
	rtnl_unlock();
}
