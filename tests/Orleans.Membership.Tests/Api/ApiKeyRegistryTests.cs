using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Orleans.Membership.Api.Http;

namespace Orleans.Membership.Tests.Api;

/// <summary>API keys: matched exactly, by hashes compared in constant time, never kept as the keys themselves.</summary>
public sealed class ApiKeyRegistryTests
{
    private static ApiKeyRegistry Registry(params (string Key, string Roles)[] keys)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < keys.Length; i++)
        {
            settings[$"Membership:ApiKeys:{i}:Key"] = keys[i].Key;
            settings[$"Membership:ApiKeys:{i}:Roles"] = keys[i].Roles;
        }
        return new ApiKeyRegistry(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
    }

    [Theory]
    [InlineData("k-checkout-0123456789", "checkout", null)]
    [InlineData("k-checkout-0123456789", "admin", 403)]
    [InlineData("k-admin-9876543210", "checkout", null)]
    [InlineData("K-CHECKOUT-0123456789", "checkout", 401)]
    [InlineData("k-checkout-012345678", "checkout", 401)]
    [InlineData("k-checkout-01234567890", "checkout", 401)]
    [InlineData(" k-checkout-0123456789", "checkout", 401)]
    [InlineData("", "checkout", 401)]
    [InlineData(null, "checkout", 401)]
    public void A_key_is_matched_exactly(string? key, string role, int? expected)
    {
        var registry = Registry(("k-checkout-0123456789", "checkout"), ("k-admin-9876543210", "admin"));
        Assert.Equal(expected, registry.Authorize(key, role));
    }

    [Fact]
    public void The_registry_keeps_hashes_of_the_keys_not_the_keys()
    {
        // What it holds is compared in constant time; a key it held as a dictionary key was looked up by hashing and
        // comparing the presented string, whose time depends on how much of it matches.
        const string key = "k-secret-abcdef-0123456789";
        var registry = Registry((key, "admin"));
        foreach (var field in typeof(ApiKeyRegistry).GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public))
        {
            var value = field.GetValue(registry);
            var items = value is IEnumerable many and not string ? many.Cast<object?>() : [value];
            foreach (var item in items)
            {
                Assert.DoesNotContain(key, item?.ToString() ?? "", StringComparison.Ordinal);
            }
        }
        Assert.Null(registry.Authorize(key, "admin"));
    }

    [Fact]
    public void A_key_configured_twice_stops_the_node_at_start()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Registry(("k-same-0123456789", "checkout"), ("k-same-0123456789", "admin")));
        Assert.Contains("Membership:ApiKeys:1:Key", error.Message);
    }
}
