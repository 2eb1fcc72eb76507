using System;
using System.Linq;
using Jobs.Sdk.Generators.Helpers;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Jobs.Sdk.Generators;

/// <summary>
/// Generates, for every <c>[Job("name")]</c> partial type: the <c>IJob&lt;TSelf&gt;</c> implementation with a
/// Utf8JsonWriter/Utf8JsonReader serializer, typed <c>Push{Type}Async</c> methods on <c>JobQueue</c> and
/// <c>Add{Type}</c> methods on <c>JobsBuilder</c>; and one internal <c>AddGeneratedJobs()</c> per assembly.
/// Never reports diagnostics: unsupported input is skipped and reported by Jobs.Sdk.Analyzers.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class JobGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var jobs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownNames.JobAttribute,
                static (node, _) => node is ClassDeclarationSyntax or StructDeclarationSyntax or RecordDeclarationSyntax,
                static (ctx, ct) => Parser.ParseJob(ctx, ct))
            .WithTrackingName(TrackingNames.JobModels)
            .Where(static job => job is not null)
            .Select(static (job, _) => job!)
            .WithTrackingName(TrackingNames.Jobs);

        // Hint names are compared ignoring case (CS8785): the few that collide get a suffix. Only the collision set is
        // shared between jobs, so editing one job leaves the others cached.
        var caseCollisions = jobs
            .Select(static (job, _) => job.HintName)
            .Collect()
            .Select(static (hintNames, _) => Parser.FindCaseCollisions(hintNames))
            .WithTrackingName(TrackingNames.HintNameCollisions);

        context.RegisterSourceOutput(jobs.Combine(caseCollisions), static (spc, input) =>
        {
            var (job, collisions) = input;
            var hintName = collisions.Contains(job.HintName) ? Parser.DisambiguateHintName(job.HintName) : job.HintName;
            spc.AddSource(hintName, Emitter.EmitJob(job));
        });

        var handlers = context.SyntaxProvider
            .CreateSyntaxProvider(Parser.IsCandidateHandler, Parser.ParseHandler)
            .WithTrackingName(TrackingNames.Handlers)
            .SelectMany(static (found, _) => found)
            .Collect()
            .WithTrackingName(TrackingNames.HandlerList);

        var jobNames = jobs
            .Select(static (job, _) => job.TypeOfName)
            .Collect()
            .WithTrackingName(TrackingNames.JobNames);

        var assembly = context.CompilationProvider
            .Select(static (compilation, ct) => Parser.ParseAssembly(compilation, ct))
            .WithTrackingName(TrackingNames.AssemblyName);

        // The members from which AddGeneratedJobs() is reached, written on it for JOBS025 (an IServiceCollection extension,
        // a constructor, a wrapper of those): the members naming it, then their callers in this assembly, transitively.
        var directCallers = context.SyntaxProvider
            .CreateSyntaxProvider(Parser.IsRegistrationCallCandidate, Parser.ParseRegistrationCaller)
            .WithTrackingName(TrackingNames.RegistrationCallers)
            .Where(static caller => caller is not null)
            .Select(static (caller, _) => caller!)
            .Collect()
            .Select(static (found, _) => found.Distinct(StringComparer.Ordinal).OrderBy(c => c, StringComparer.Ordinal).ToEquatableArray());

        // Per file, the names it mentions (syntax only, re-read only for an edited file): the closure binds only the files
        // naming a member it reached. Not tracked: it follows every edit of a body by design, while the callers it leads to
        // (RegistrationCallerList) stay unchanged.
        var callNames = context.CompilationProvider
            .SelectMany(static (compilation, _) => compilation.SyntaxTrees)
            .Select(static (tree, ct) => Parser.ParseCallNames(tree, ct))
            .Collect();

        var callers = directCallers
            .Combine(callNames)
            .Combine(context.CompilationProvider)
            .Select(static (input, ct) => Parser.CloseRegistrationCallers(input.Left.Left, input.Left.Right, input.Right, ct))
            .WithTrackingName(TrackingNames.RegistrationCallerList);

        var registration = jobNames
            .Combine(handlers)
            .Combine(assembly)
            .Combine(callers)
            .Select(static (input, _) => Parser.CreateRegistration(input.Left.Left.Left, input.Left.Left.Right, input.Left.Right, input.Right))
            .WithTrackingName(TrackingNames.Registration);

        context.RegisterSourceOutput(registration, static (spc, model) =>
        {
            if (model.LocalJobs.Count > 0 || model.Handlers.Count > 0)
            {
                spc.AddSource("JobsRegistration.g.cs", Emitter.EmitRegistration(model));
            }
        });

        // The members from which another assembly's registration is reached (a Platform library calling Billing's wrapper,
        // listed in Billing's metadata), written as [assembly: JobRegistrationReach] for JOBS025, in a library with or
        // without jobs of its own: the referenced libraries' listed members (metadata only), then their callers here.
        var externalCallers = context.CompilationProvider
            .Select(static (compilation, ct) => Parser.ParseExternalRegistrationCallers(compilation, ct))
            .WithTrackingName(TrackingNames.ExternalRegistrationCallers);

        var ownRegistration = jobNames
            .Combine(handlers)
            .Select(static (input, _) => input.Left.Length > 0 || input.Right.Length > 0);

        var reach = externalCallers
            .Combine(ownRegistration)
            .Combine(callNames)
            .Combine(context.CompilationProvider)
            .Select(static (input, ct) => Parser.CloseRegistrationReach(input.Left.Left.Left, input.Left.Left.Right, input.Left.Right, input.Right, ct))
            .WithTrackingName(TrackingNames.RegistrationReach);

        context.RegisterSourceOutput(reach, static (spc, model) =>
        {
            if (model.Count > 0)
            {
                spc.AddSource("JobsRegistrationReach.g.cs", Emitter.EmitRegistrationReach(model));
            }
        });
    }
}
