using Orleans.Membership.LoadTests;

return await Cli.RunAsync(args, Console.Out, Console.Error);
