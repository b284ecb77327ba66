using Orleans.Runtime;

namespace Orleans.Membership.Abstractions;

/// <summary>
/// The database behind grain state or the due-time index cannot be reached now: nothing of the call was
/// stored. An <see cref="OrleansException"/>, so grain state storage passes it on as it is (a failed
/// activation included) instead of wrapping it in a message of its own.
/// </summary>
[GenerateSerializer, Alias("store-unavailable")]
public sealed class StoreUnavailableException : OrleansException
{
    // No inner exception: this one crosses silos, and a database driver's exceptions have no Orleans codec.
    // The message carries the cause's.
    public StoreUnavailableException(string message) : base(message) { }

    /// <summary>Whether <paramref name="error"/> (or what caused it) is the database or the network to it failing.</summary>
    public static bool IsStoreFailure(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException or IOException or System.Net.Sockets.SocketException or TimeoutException) return true;
        }
        return false;
    }
}
