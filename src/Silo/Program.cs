using Orleans.Membership.Api.Operations;
using Orleans.Membership.Silo;

return await MembershipSettings.RunAsync(() => MembershipNode.Build(args));
