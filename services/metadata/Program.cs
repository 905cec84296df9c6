using Keyward.Common.Hosting;
using Keyward.Metadata;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(MetadataSetup.ServiceName);
builder.AddMetadata();

var app = builder.Build();
app.UseServiceDefaults();
app.MapMetadata();
await app.RunKeywardAsync();
