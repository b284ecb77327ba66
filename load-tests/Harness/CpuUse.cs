using System.Diagnostics;
using System.Globalization;

namespace Orleans.Membership.LoadTests.Harness;

/// <summary>
/// How busy the machine's cores were while a run's load ran, and how much of them this generator took
/// (both in percent of all cores). A latency measured on a machine near 100% busy includes the wait for
/// a core, which a reader must know before blaming, or crediting, the system. Read from /proc/stat, so
/// null where there is none (not Linux); its cores are the machine's (a container's CPU quota is not seen).
/// </summary>
public sealed record CpuUse(int Cores, double MachineBusyPercent, double GeneratorPercent)
{
    /// <summary>The counters at one instant: the machine's cores, its busy and total jiffies, this process's CPU time, the time.</summary>
    public readonly record struct Sample(int Cores, long BusyJiffies, long TotalJiffies, TimeSpan GeneratorCpu, long Timestamp);

    public static Sample? Take()
    {
        if (!File.Exists("/proc/stat")) return null;
        var lines = File.ReadAllLines("/proc/stat");
        if (ParseCpuLine(lines.FirstOrDefault()) is not var (busy, total)) return null;
        var cores = lines.Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && l.Length > 3 && char.IsAsciiDigit(l[3]));
        using var self = Process.GetCurrentProcess();
        return new Sample(cores, busy, total, self.TotalProcessorTime, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// The first line of /proc/stat (<c>cpu user nice system idle iowait irq softirq steal ...</c>) as busy
    /// and total jiffies: idle and iowait are waiting, the rest is work. Guest time is already in user.
    /// </summary>
    public static (long Busy, long Total)? ParseCpuLine(string? line)
    {
        var fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields is null || fields.Length < 5 || fields[0] != "cpu") return null;
        long busy = 0, waiting = 0;
        for (var i = 1; i < Math.Min(fields.Length, 9); i++)
        {
            if (!long.TryParse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture, out var jiffies)) return null;
            if (i is 4 or 5) waiting += jiffies;
            else busy += jiffies;
        }
        return (busy, busy + waiting);
    }

    /// <summary>What happened between two samples; null when either is missing or no time passed.</summary>
    public static CpuUse? Between(Sample? from, Sample? to)
    {
        if (from is not { } a || to is not { } b || b.Cores < 1) return null;
        var cores = b.Cores;
        var jiffies = b.TotalJiffies - a.TotalJiffies;
        var wall = Stopwatch.GetElapsedTime(a.Timestamp, b.Timestamp);
        if (jiffies <= 0 || wall <= TimeSpan.Zero) return null;
        var busy = 100.0 * (b.BusyJiffies - a.BusyJiffies) / jiffies;
        var generator = 100.0 * (b.GeneratorCpu - a.GeneratorCpu).TotalSeconds / (wall.TotalSeconds * cores);
        return new CpuUse(cores, Math.Round(Math.Clamp(busy, 0, 100), 1), Math.Round(Math.Clamp(generator, 0, 100), 1));
    }

    /// <summary>One line for a reader: "2 cores 98.0% busy, this generator 25.3% of them".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Cores} cores {MachineBusyPercent:0.0}% busy, this generator {GeneratorPercent:0.0}% of them");
}
