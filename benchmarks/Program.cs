using BenchmarkDotNet.Running;
using Orleans.Membership.Benchmarks;

// `activation-floor [N]`: what an empty Orleans activation costs; `member-footprint [N]`: what the engine's
// own share of a member costs; anything else goes to BenchmarkDotNet.
int Count() => args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
if (args is ["activation-floor", ..])
{
    await ActivationFloor.Run(Count());
    return;
}
if (args is ["member-footprint", ..])
{
    MemberFootprint.Run(Count());
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(MemberBenchmarks).Assembly).Run(args);
