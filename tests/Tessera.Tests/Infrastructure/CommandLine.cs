using Tessera.Hosting;

namespace Tessera.Tests.Infrastructure;

/// <summary>Runs a <c>tessera</c> verb in-process, as an operator would run it, capturing what it prints.</summary>
public static class CommandLine
{
    /// <remarks>Swaps the process-wide console, so callers belong to <c>ConsoleCollection</c>.</remarks>
    public static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (originalOut, originalError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (await TesseraCli.InvokeAsync(args), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
    }
}
