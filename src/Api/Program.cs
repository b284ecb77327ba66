// Standalone API process (an Orleans client); filled in by the topology work.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.Run();
