using Keyward.Common.Hosting;
using Keyward.Keyserver;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(KeyserverSetup.ServiceName);
builder.AddKeyserver();

var app = builder.Build();
app.UseServiceDefaults();
app.MapKeyserver();
await app.RunKeywardAsync();
