// Tests that train use every core through libtorch; running them side by side only slows each down.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
