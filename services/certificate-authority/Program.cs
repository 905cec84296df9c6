using Keyward.CertificateAuthority;
using Keyward.Common.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(CertificateAuthoritySetup.ServiceName);
builder.AddCertificateAuthority();

var app = builder.Build();
app.UseServiceDefaults();
app.MapCertificateAuthority();
await app.RunKeywardAsync();
