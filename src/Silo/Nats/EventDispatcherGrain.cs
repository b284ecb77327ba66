namespace Orleans.Membership.Silo.Nats;

/// <summary>
/// The single dispatcher of a NATS events stream, keyed by the stream's name: Orleans keeps one
/// activation in the cluster, and when its silo dies re-activates it on another at the next ping (every
/// silo pings it, <see cref="NatsIngestOptions.PingInterval"/>). Its activation runs the silo's
/// <see cref="NatsEventPump"/>; the member calls it makes spread over every silo.
/// </summary>
[Alias("event-dispatcher")]
public interface IEventDispatcherGrain : IGrainWithStringKey
{
    /// <summary>Makes sure the dispatcher runs; returns its counters.</summary>
    [Alias("ping")] Task<NatsIngestCounters> Ping();
}

internal sealed class EventDispatcherGrain(NatsEventPump pump) : Grain, IEventDispatcherGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        pump.Start();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => pump.StopAsync(cancellationToken);

    Task<NatsIngestCounters> IEventDispatcherGrain.Ping()
    {
        pump.Start();
        return Task.FromResult(pump.Counters());
    }
}
