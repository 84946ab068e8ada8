// The docs run vexlab in this process in a temporary working directory: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
