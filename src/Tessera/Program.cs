// The composition root: parse the command line and run the chosen verb (Hosting/TesseraCli.cs).
return await Tessera.Hosting.TesseraCli.InvokeAsync(args);
