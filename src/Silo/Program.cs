using Orleans.Membership.Silo;

await MembershipNode.Build(args).RunAsync();
