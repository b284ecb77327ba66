using Orleans.Configuration;

namespace Orleans.Membership.Silo;

/// <summary>
/// Members a silo lets go when its memory runs short (<c>Membership:Members</c>): Orleans' activation
/// shedding deactivates the members closest to their idle collection until memory use is back at
/// <see cref="ShedToMemoryPercent"/>. A shed member reloads from its snapshot and ledger on its next
/// request, so a festival that activates more members than a silo holds slows their first call instead of
/// running the silo out of memory.
/// </summary>
public sealed class MemberSheddingOptions
{
    public const string Section = "Membership:Members";

    /// <summary>Memory use, in percent of what the process may use, at which members are shed; 0: never.</summary>
    public double ShedAtMemoryPercent { get; set; } = 80;

    /// <summary>The memory use a shedding brings the silo back to.</summary>
    public double ShedToMemoryPercent { get; set; } = 70;

    public string? Problem()
    {
        if (ShedAtMemoryPercent is < 0 or > 100) return $"{Section}:ShedAtMemoryPercent must be between 0 (never) and 100, not {ShedAtMemoryPercent}";
        if (ShedAtMemoryPercent > 0 && (ShedToMemoryPercent <= 0 || ShedToMemoryPercent >= ShedAtMemoryPercent))
        {
            return $"{Section}:ShedToMemoryPercent must be above 0 and below ShedAtMemoryPercent ({ShedAtMemoryPercent}), not {ShedToMemoryPercent}";
        }
        return null;
    }

    public void ApplyTo(GrainCollectionOptions collection)
    {
        collection.EnableActivationSheddingOnMemoryPressure = ShedAtMemoryPercent > 0;
        if (ShedAtMemoryPercent <= 0) return;
        collection.MemoryUsageLimitPercentage = ShedAtMemoryPercent;
        collection.MemoryUsageTargetPercentage = ShedToMemoryPercent;
    }
}
