using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Grains;

/// <summary>What the silo's member grains did with events that came by stream (there is no caller to tell).</summary>
public sealed class StreamIngestStats
{
    private long _accepted;
    private long _duplicates;
    private long _rejected;

    public long Accepted => Interlocked.Read(ref _accepted);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Rejected => Interlocked.Read(ref _rejected);

    internal void Record(EventOutcome[] outcomes)
    {
        long accepted = 0, duplicates = 0, rejected = 0;
        foreach (var o in outcomes)
        {
            switch (o.Status)
            {
                case EventStatus.Accepted: accepted++; break;
                case EventStatus.Duplicate: duplicates++; break;
                default: rejected++; break;
            }
        }
        Interlocked.Add(ref _accepted, accepted);
        Interlocked.Add(ref _duplicates, duplicates);
        Interlocked.Add(ref _rejected, rejected);
    }
}
