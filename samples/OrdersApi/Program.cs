using System.Net;
using System.Security.Claims;
using Tessera.Validation;

var builder = WebApplication.CreateBuilder(args);

// The one call: Tessera's tokens accepted, the recheck policy, and the revocation receiver at /tessera/signals.
builder.Services.AddTesseraValidation(builder.Configuration.GetSection(TesseraValidationDefaults.ConfigurationSection));

var app = builder.Build();

app.MapGet("/orders", (ClaimsPrincipal user) => Results.Json(new
{
    sub = user.FindFirstValue("sub"),
    organization = user.FindFirstValue("org"),
    orders = new[]
    {
        new { id = "ord-1001", item = "Gauze swabs, 100", quantity = 4 },
        new { id = "ord-1002", item = "Nitrile gloves, M", quantity = 10 },
    },
})).RequireAuthorization(policy => policy.RequireClaim("scope", "read:orders"));

// The library's counters, for operators on this machine only.
app.MapGet("/metrics", (HttpContext context, TesseraValidationMetrics metrics) =>
    context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address)
        ? Results.Json(metrics.Snapshot())
        : Results.NotFound());

app.MapGet("/healthz", () => Results.Text("ok"));

app.Run();
