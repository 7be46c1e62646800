using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Tessera.Pages;

/// <summary>Shown for failures nobody planned for; says nothing about the cause beyond a request id.</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ErrorModel : PageModel
{
    public ErrorView View { get; private set; } = new("Something went wrong", "server_error", null);

    public void OnGet() => View = new ErrorView("Something went wrong", "server_error", $"The request could not be completed (request {HttpContext.TraceIdentifier}).");

    public void OnPost() => OnGet();
}
