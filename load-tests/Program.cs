using Orleans.Membership.LoadTests;

// A generator must never wait for the pool to inject threads: that would be lag of its own making.
ThreadPool.SetMinThreads(Math.Max(32, Environment.ProcessorCount * 8), Math.Max(32, Environment.ProcessorCount * 8));
return await Cli.RunAsync(args, Console.Out, Console.Error);
