using System.Runtime.CompilerServices;

namespace Orleans.Membership.LoadTests.Tests;

internal static class ThreadPoolSetup
{
    /// <summary>
    /// The test host blocks some pool threads; without spare ones the scheduler's timer continuations wait
    /// for thread injection (~0.5 s each) and the harness rightly reports its own run as behind.
    /// </summary>
    [ModuleInitializer]
    internal static void Init() => ThreadPool.SetMinThreads(Math.Max(32, Environment.ProcessorCount * 8), Math.Max(32, Environment.ProcessorCount * 8));
}
