// The dashboard sample: a web app with jobs on PostgreSQL and the dashboard mounted at /jobs.
//
//   JOBS_CONNECTION="Host=localhost;Username=postgres;Password=postgres" dotnet run --project samples/Jobs.Sdk.Samples.Dashboard
//   then open http://localhost:5000/jobs/ (local requests only: the sample does not add RequireAuthorization)
//
//   dotnet publish samples/Jobs.Sdk.Samples.Dashboard -c Release -r linux-x64    (Native AOT, zero warnings)
using Jobs.Sdk.Samples.Dashboard;

var app = DashboardSampleApp.Build(args);
await app.RunAsync();
