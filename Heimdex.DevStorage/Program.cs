using Heimdex.DevStorage;

return await DevStorageServer.RunAsync(args);
