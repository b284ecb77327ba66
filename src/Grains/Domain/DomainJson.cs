using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Membership.Domain.Ledger;
using Orleans.Membership.Domain.Members;

namespace Orleans.Membership.Domain;

/// <summary>The engine's one JSON shape (camelCase, nulls written, enums as strings), source-generated.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(RedemptionResult))]
[JsonSerializable(typeof(BenefitCheck))]
[JsonSerializable(typeof(SubscriptionView))]
[JsonSerializable(typeof(MemberSummary))]
[JsonSerializable(typeof(LedgerEntry))]
[JsonSerializable(typeof(List<LedgerEntry>))]
[JsonSerializable(typeof(MemberChange))]
public sealed partial class DomainJson : JsonSerializerContext;
