using System.Text.Json.Nodes;
using Orleans.Membership.Domain.Programs;
using Orleans.Membership.Tests.Support;

namespace Orleans.Membership.Tests.Domain;

/// <summary>Program definitions: the shipped ones compile to what the docs say; bad ones are refused, every problem by path.</summary>
public sealed class ProgramDefinitionTests
{
    [Fact]
    public void The_default_program_compiles_to_the_numbers_of_its_rules()
    {
        var p = TestPrograms.Default;
        Assert.Equal(["member", "silver", "gold", "platinum", "diamond"], p.Tiers.Select(t => t.Code));
        Assert.Equal([0L, 1000, 5000, 20000, 50000], p.Tiers.Select(t => t.Threshold));
        Assert.Equal([1.0m, 1.0m, 1.2m, 1.5m, 2.0m], p.Tiers.Select(t => t.PointMultiplier));
        Assert.Equal(12, p.Qualifying.Months);
        Assert.Equal(12, p.TierValidityMonths);
        Assert.Equal("Asia/Shanghai", p.TimeZone.Id);
        Assert.Equal(new PointExpiry(PointExpiryPolicy.EndOfYear, 1, 0), p.PointExpiry);
        Assert.Equal(60, p.ExpiringSoonDays);
        Assert.Equal(new HashSet<string> { "order.paid", "order.refunded", "sign-in", "review", "share", "profile.completed" }, p.EventTypes.Keys.ToHashSet());
        Assert.Equal(new EarnLimit(1, null), p.EventTypes["sign-in"].Limit);
        Assert.Equal(new EarnLimit(null, 1), p.EventTypes["profile.completed"].Limit);
        Assert.Equal(["free-shipping", "member-price", "priority-service", "birthday-gift", "early-access", "monthly-coupon"], p.Benefits.Select(b => b.Code));
        Assert.Equal(["silver", "gold", "platinum", "diamond"], p.BenefitsByCode["birthday-gift"].Grants.Single().Tiers);
        Assert.Equal(7, p.Plans["plus"].TrialDays);
        Assert.Equal(["P1M", "P1Y"], p.Plans["plus"].Terms);
    }

    private static JsonObject DefaultCopy() => JsonNode.Parse(TestPrograms.Json("default"), documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!.AsObject();

    private static IReadOnlyList<ProgramError> Errors(JsonObject definition)
    {
        var result = ProgramCompiler.Compile("p", 1, definition.ToJsonString());
        Assert.Null(result.Program);
        return result.Errors;
    }

    public static TheoryData<string, string, string> Broken => new()
    {
        // (JSON path to set, JSON value, expected error path)
        { "tiers[2].threshold", "1000", "tiers[2].threshold" },
        { "tiers[0].threshold", "5", "tiers[0].threshold" },
        { "tiers[1].code", "\"Silver!\"", "tiers[1].code" },
        { "currency", "\"yuan\"", "currency" },
        { "timeZone", "\"Mars/Olympus\"", "timeZone" },
        { "qualifying.window", "\"12 months\"", "qualifying.window" },
        { "eventTypes[0].kind", "\"sale\"", "eventTypes[0].kind" },
        { "eventTypes[0].growth.perAmount", "\"five\"", "eventTypes[0].growth.perAmount" },
        { "eventTypes[2].growth", "{\"perAmount\":1}", "eventTypes[2].growth.perAmount" },
        { "eventTypes[0].pointMultipliers[1]", "\"weekend\"", "eventTypes[0].pointMultipliers[1]" },
        { "eventTypes[1].refunds", "\"sign-in\"", "eventTypes[1].refunds" },
        { "points.expiry.policy", "\"sometimes\"", "points.expiry.policy" },
        { "benefits[0].grants[0].tiers[0]", "\"bronze\"", "benefits[0].grants[0].tiers[0]" },
        { "benefits[0].grants[0].quota", "0", "benefits[0].grants[0].quota" },
        { "benefits[0].period", "\"week\"", "benefits[0].period" },
        { "benefits[3].window.fromDayOfMonth", "31", "benefits[3].window.fromDayOfMonth" },
        { "multipliers[1].when.planActive", "\"gold-card\"", "multipliers[1].when.planActive" },
        { "plans[0].terms[0]", "\"P1W\"", "plans[0].terms[0]" },
        { "tiers[1].colour", "\"grey\"", "tiers[1].colour" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void A_broken_definition_names_the_path_of_the_problem(string path, string value, string errorPath)
    {
        var definition = DefaultCopy();
        Set(definition, path, JsonNode.Parse(value));
        Assert.Contains(Errors(definition), e => e.Path == errorPath);
    }

    [Fact]
    public void Thresholds_out_of_order_say_which_tier_they_must_exceed()
    {
        var definition = DefaultCopy();
        Set(definition, "tiers[2].threshold", JsonValue.Create(1000));
        var error = Assert.Single(Errors(definition));
        Assert.Equal("tiers[2].threshold", error.Path);
        Assert.Equal("must be greater than tiers[1].threshold (1000)", error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var definition = DefaultCopy();
        Set(definition, "currency", JsonValue.Create("cny"));
        Set(definition, "tiers[3].threshold", JsonValue.Create(10));
        Set(definition, "benefits[1].grants[0].value", JsonValue.Create(-1));
        definition.Remove("name");
        var paths = Errors(definition).Select(e => e.Path).ToHashSet();
        Assert.Superset(new HashSet<string> { "currency", "tiers[3].threshold", "benefits[1].grants[0].value", "name" }, paths);
    }

    [Theory]
    [InlineData("[]", "$")]
    [InlineData("{\"name\":", "$")]
    public void What_is_not_a_json_object_is_refused(string json, string path)
    {
        var result = ProgramCompiler.Compile("p", 1, json);
        Assert.Equal(path, Assert.Single(result.Errors).Path);
    }

    [Fact]
    public void An_id_in_the_body_must_match_and_a_version_is_ignored()
    {
        var definition = DefaultCopy();
        definition["version"] = 41;
        definition["id"] = "p";
        var compiled = ProgramCompiler.Compile("p", 7, definition.ToJsonString());
        Assert.Equal(7, compiled.Program!.Version);
        Assert.DoesNotContain("version", compiled.Program.DefinitionJson);
        definition["id"] = "other";
        Assert.Contains(Errors(definition), e => e.Path == "id");
    }

    /// <summary>Sets a value at a simple path like <c>tiers[2].threshold</c>.</summary>
    private static void Set(JsonObject root, string path, JsonNode? value)
    {
        JsonNode node = root;
        var parts = path.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var bracket = part.IndexOf('[');
            var name = bracket < 0 ? part : part[..bracket];
            int? index = bracket < 0 ? null : int.Parse(part[(bracket + 1)..^1]);
            var last = i == parts.Length - 1;
            if (index is null)
            {
                if (last) node[name] = value;
                else node = node[name] ??= new JsonObject();
            }
            else
            {
                var array = node[name]!.AsArray();
                if (last) array[index.Value] = value;
                else node = array[index.Value]!;
            }
        }
    }
}
