using Keyward.Common.Hosting;
using Keyward.Audit;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(AuditSetup.ServiceName);
builder.AddAudit();

var app = builder.Build();
app.UseServiceDefaults();
app.MapAudit();
await app.RunKeywardAsync();
