using Keyward.Common.Hosting;
using Keyward.Gateway;
using Keyward.Gateway.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(GatewaySetup.ServiceName);
builder.AddGateway();

var app = builder.Build();
// The gateway's own gRPC health service (the readiness of everything behind it) is for token holders.
app.UseServiceDefaults(requireAuthForGrpcHealth: true,
    beforeAuthentication: app =>
    {
        FrontDoor.Use(app);
        EdgeRateLimits.UseRefusedTokenBudget(app);
    },
    afterAuthentication: EdgeRateLimits.UseEdgeBudgets);
app.MapGateway();
await app.RunKeywardAsync();
