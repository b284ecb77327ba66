using BenchmarkDotNet.Running;
using Orleans.Membership.Benchmarks;

// `activation-floor [N]`: what an empty Orleans activation costs; anything else goes to BenchmarkDotNet.
if (args is ["activation-floor", ..])
{
    await ActivationFloor.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(MemberBenchmarks).Assembly).Run(args);
