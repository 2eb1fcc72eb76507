using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Jobs.Sdk.Analyzers;

/// <summary>
/// JOBS001: a project that runs workers pushes a job it registers no handler for. JOBS002: one builder registers a job twice.
/// JOBS025: a project that runs workers never calls the registration of a referenced library that handles jobs.
/// One operation action per invocation (and method reference, object creation, property read) records facts (pushes, registrations, AddWorkers, calls into
/// libraries) into concurrent collections; the compilation-end action only joins them. Nothing rescans the compilation;
/// only JOBS025 reads referenced libraries, at the end and only in a project that runs workers.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed partial class JobRegistrationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        Descriptors.UnregisteredJob,
        Descriptors.DuplicateRegistration,
        Descriptors.UncalledLibraryRegistration);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        // Generated code is skipped on purpose: a generated Add{Job}<THandler> body registers nothing until user code calls it.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (KnownSymbols.TryCreate(start.Compilation) is not { JobQueue: not null, JobsBuilder: not null } known)
            {
                return;
            }

            var state = new State(known, start.Compilation.Assembly);
            start.RegisterOperationBlockStartAction(block =>
            {
                var chains = new BuilderRegistrations();
                block.RegisterOperationAction(operation => state.Analyze(operation, chains), OperationKind.Invocation);
                block.RegisterOperationAction(
                    operation => state.NoteLibraryCall(((IMethodReferenceOperation)operation.Operation).Method), OperationKind.MethodReference);
                block.RegisterOperationAction(operation =>
                {
                    if (((IObjectCreationOperation)operation.Operation).Constructor is { } constructor)
                    {
                        state.NoteLibraryCall(constructor);
                    }
                }, OperationKind.ObjectCreation);
                block.RegisterOperationAction(operation =>
                {
                    // A library's property getter may reach its registration (a static property returning a delegate over it).
                    var reference = (IPropertyReferenceOperation)operation.Operation;
                    if (reference.Property is { IsIndexer: false, GetMethod: { } getter }
                        && !(reference.Parent is ISimpleAssignmentOperation assignment && assignment.Target == reference))
                    {
                        state.NoteLibraryCall(getter);
                    }
                }, OperationKind.PropertyReference);
                block.RegisterOperationBlockEndAction(end => chains.Report(end));
            });
            start.RegisterCompilationEndAction(state.Report);
        });
    }

    /// <summary>Facts for one compilation.</summary>
    private sealed partial class State(KnownSymbols known, IAssemblySymbol compilationAssembly)
    {
        private readonly ConcurrentBag<(ITypeSymbol Job, Location Location)> _pushes = [];
        private readonly ConcurrentDictionary<ITypeSymbol, byte> _registered = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<IMethodSymbol, MethodKind> _methodKinds = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<(IMethodSymbol Method, int Ordinal), byte> _helperParameters = new();
        private readonly ConcurrentDictionary<(IMethodSymbol Method, int Ordinal), byte> _pushHelperParameters = new();
        private readonly ConcurrentBag<(IMethodSymbol Method, ImmutableArray<ITypeSymbol> TypeArguments, Location Location)> _genericCalls = [];
        private readonly ConcurrentDictionary<IAssemblySymbol, byte> _libraryRegistrars = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<IAssemblySymbol, byte> _libraryCalls = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<IMethodSymbol, byte> _libraryMemberCalls = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<IAssemblySymbol, bool> _referencesSdk = new(SymbolEqualityComparer.Default);
        private List<IAssemblySymbol>? _wrapperCalls;
        private readonly ConcurrentBag<Location> _workerCalls = [];
        private int _workers;

        private enum MethodKind { None, Push, Registration }

        public void Analyze(OperationAnalysisContext context, BuilderRegistrations chains)
        {
            var invocation = (IInvocationOperation)context.Operation;
            var method = invocation.TargetMethod;
            var definition = method.ReducedFrom ?? method;
            var receiverType = method.ReducedFrom is not null ? method.ReceiverType
                : method.IsExtensionMethod && method.Parameters.Length > 0 ? method.Parameters[0].Type
                : method.ContainingType;

            NoteLibraryCall(definition);

            // Calls of the user's own generic methods: resolved at the end against helpers that register a type parameter.
            var unreduced = method.ReducedFrom is not null ? method.GetConstructedReducedFrom() ?? method : method;
            if (unreduced.TypeArguments.Length > 0 && unreduced.DeclaringSyntaxReferences.Length > 0)
            {
                _genericCalls.Add((unreduced.OriginalDefinition, unreduced.TypeArguments, invocation.Syntax.GetLocation()));
            }

            if (SymbolEqualityComparer.Default.Equals(receiverType, known.JobQueue))
            {
                if (method.ContainingType.Equals(known.JobQueue, SymbolEqualityComparer.Default)
                    && method.Name is "PushAsync" or "PushManyAsync" or "TryPushAsync" or "TryPushManyAsync" && method.TypeArguments.Length == 1)
                {
                    AddPush(method.TypeArguments[0], invocation);
                }
                else if (GetMarkedTypes(definition, isPush: true) is { Length: 1 } pushed)
                {
                    AddPush(pushed[0], invocation);
                }

                return;
            }

            if (SymbolEqualityComparer.Default.Equals(receiverType, known.JobsBuilder))
            {
                if (method.Name == "AddWorkers")
                {
                    Interlocked.Exchange(ref _workers, 1);
                    _workerCalls.Add(NameLocation(invocation));
                    return;
                }

                if (method.ContainingType.Equals(known.JobsBuilder, SymbolEqualityComparer.Default)
                    && method.Name == "AddJob" && method.TypeArguments.Length >= 1)
                {
                    _registered.TryAdd(method.TypeArguments[0], 0);
                    if (method.TypeArguments[0] is ITypeParameterSymbol { DeclaringMethod: { } helper } parameter)
                    {
                        // A generic helper of the user's (Register<TJob, THandler>(...) => builder.AddJob<TJob, THandler>()).
                        _helperParameters.TryAdd((helper.OriginalDefinition, parameter.Ordinal), 0);
                    }

                    chains.Add(invocation, method.TypeArguments[0]);
                    return;
                }

                var registered = GetMarkedTypes(definition, isPush: false);
                foreach (var type in registered)
                {
                    _registered.TryAdd(type, 0);
                }

                if (registered.Length == 0 && definition.DeclaringSyntaxReferences.IsEmpty
                    && definition.ContainingAssembly is { } library
                    && !SymbolEqualityComparer.Default.Equals(library, known.JobsBuilder!.ContainingAssembly))
                {
                    // A referenced library's own setup method (jobs.AddHandlers() => jobs.AddGeneratedJobs()): its body
                    // cannot be read, so the handlers that library holds are taken as registered (see LibraryHandlers).
                    _libraryRegistrars.TryAdd(library, 0);
                }

                // Multi-job methods (AddGeneratedJobs) skip jobs that are already registered, so only single-job ones can collide.
                if (registered.Length == 1)
                {
                    chains.Add(invocation, registered[0]);
                }

                return;
            }

            // Schedule entries: s.Add(job, schedule, ...) on the scheduler's builder (Jobs.Sdk.* type named *Schedule*).
            if (method.Name == "Add" && IsScheduleBuilder(method.ContainingType))
            {
                if (method.TypeArguments.Length == 1 && known.IsJobType(method.TypeArguments[0]))
                {
                    AddPush(method.TypeArguments[0], invocation);
                }
                else if (invocation.Arguments.Length > 0
                    && Unwrap(invocation.Arguments[0].Value).Type is { } argumentType && known.IsJobType(argumentType))
                {
                    AddPush(argumentType, invocation);
                }
            }
        }

        public void Report(CompilationAnalysisContext context)
        {
            if (Volatile.Read(ref _workers) == 0)
            {
                return; // producer-only project: handlers live elsewhere.
            }

            ResolveGenericHelpers();
            ReportUncalledLibraries(context);
            HashSet<ITypeSymbol>? libraryHandled = null;

            foreach (var (job, location) in _pushes.Concat(HelperPushes()))
            {
                if (_registered.ContainsKey(job))
                {
                    continue;
                }

                libraryHandled ??= LibraryHandlers.JobsHandledIn(_libraryRegistrars.Keys.Concat(WrapperCalls()), known, context.CancellationToken);
                if (libraryHandled.Contains(job))
                {
                    continue;
                }

                var name = known.GetJobName(job);
                if (IsExternal(context, location, job, name))
                {
                    continue;
                }

                var display = job.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat);
                context.ReportDiagnostic(Diagnostic.Create(Descriptors.UnregisteredJob, location,
                    name ?? display, display));
            }
        }

        /// <summary>
        /// Registers the type arguments passed to the user's generic registration helpers, following helpers that call
        /// other helpers with their own type parameters until nothing changes (the same for generic push helpers).
        /// </summary>
        private void ResolveGenericHelpers()
        {
            var calls = _genericCalls.ToArray();
            for (var changed = true; changed;)
            {
                changed = false;
                foreach (var (method, typeArguments, _) in calls)
                {
                    for (var i = 0; i < typeArguments.Length; i++)
                    {
                        if (typeArguments[i] is ITypeParameterSymbol { DeclaringMethod: { } pushing } pushed && _pushHelperParameters.ContainsKey((method, i)))
                        {
                            changed |= _pushHelperParameters.TryAdd((pushing.OriginalDefinition, pushed.Ordinal), 0);
                        }

                        if (!_helperParameters.ContainsKey((method, i)))
                        {
                            continue;
                        }

                        if (typeArguments[i] is ITypeParameterSymbol { DeclaringMethod: { } outer } parameter)
                        {
                            changed |= _helperParameters.TryAdd((outer.OriginalDefinition, parameter.Ordinal), 0);
                        }
                        else
                        {
                            _registered.TryAdd(typeArguments[i], 0);
                        }
                    }
                }
            }
        }

        private void AddPush(ITypeSymbol job, IInvocationOperation invocation)
        {
            if (job is ITypeParameterSymbol { DeclaringMethod: { } helper } parameter)
            {
                // A generic push helper of the user's (EnqueueAsync<T>(queue, job) => queue.PushAsync(job)): its calls
                // with a concrete type argument are pushes of that type (resolved at the end, like registration helpers).
                _pushHelperParameters.TryAdd((helper.OriginalDefinition, parameter.Ordinal), 0);
                return;
            }

            if (job.TypeKind is TypeKind.TypeParameter or TypeKind.Error)
            {
                return; // a type parameter of a generic class cannot be judged.
            }

            _pushes.Add((job, invocation.Syntax.GetLocation()));
        }

        /// <summary>The pushes made through the user's generic push helpers: their calls with a concrete type argument.</summary>
        private IEnumerable<(ITypeSymbol Job, Location Location)> HelperPushes()
        {
            foreach (var (method, typeArguments, location) in _genericCalls)
            {
                for (var i = 0; i < typeArguments.Length; i++)
                {
                    if (typeArguments[i].TypeKind is not (TypeKind.TypeParameter or TypeKind.Error) && _pushHelperParameters.ContainsKey((method, i)))
                    {
                        yield return (typeArguments[i], location);
                    }
                }
            }
        }

        private ImmutableArray<ITypeSymbol> GetMarkedTypes(IMethodSymbol method, bool isPush)
        {
            var attributeType = isPush ? known.JobPushMethodAttribute : known.JobRegistrationMethodAttribute;
            if (attributeType is null)
            {
                return [];
            }

            // The method-kind cache avoids reading attributes of the same unmarked method again.
            if (_methodKinds.TryGetValue(method, out var kind) && kind == MethodKind.None)
            {
                return [];
            }

            var types = MarkedTypes.Of(method, attributeType);
            _methodKinds[method] = types.IsEmpty ? MethodKind.None : isPush ? MethodKind.Push : MethodKind.Registration;
            return types;
        }

        private static bool IsScheduleBuilder(INamedTypeSymbol? type)
        {
            if (type is null || type.Name.IndexOf("Schedule", System.StringComparison.Ordinal) < 0)
            {
                return false;
            }

            var ns = type.ContainingNamespace;
            while (ns is { IsGlobalNamespace: false, ContainingNamespace.IsGlobalNamespace: false })
            {
                ns = ns.ContainingNamespace;
            }

            // Jobs.Sdk or one of its sub-namespaces: the top-level namespace is 'Jobs', the next one 'Sdk'.
            var full = type.ContainingNamespace.ToDisplayString();
            return ns?.Name == "Jobs" && (full == "Jobs.Sdk" || full.StartsWith("Jobs.Sdk.", System.StringComparison.Ordinal));
        }

        private static bool IsExternal(CompilationAnalysisContext context, Location location, ITypeSymbol job, string? name)
        {
            if (location.SourceTree is not { } tree
                || !context.Options.AnalyzerConfigOptionsProvider.GetOptions(tree).TryGetValue(Descriptors.ExternalJobsOption, out var value))
            {
                return false;
            }

            var fullName = job.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "");
            foreach (var entry in value.Split(',', ';'))
            {
                var item = entry.Trim();
                if (item.Length > 0 && (item == name || item == fullName || item == job.Name))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>From the called method's name to the end of the call (<c>AddWorkers()</c> of a fluent chain).</summary>
    private static Location NameLocation(IInvocationOperation invocation)
        => invocation.Syntax is Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax
        {
            Expression: Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax member,
        }
            ? Location.Create(invocation.Syntax.SyntaxTree, Microsoft.CodeAnalysis.Text.TextSpan.FromBounds(member.Name.SpanStart, invocation.Syntax.Span.End))
            : invocation.Syntax.GetLocation();

    private static IOperation Unwrap(IOperation operation)
    {
        while (operation is IConversionOperation { IsImplicit: true } conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }

    /// <summary>
    /// Registrations within one operation block, grouped by builder: the parameter or local the chain starts from
    /// (<c>jobs.AddJob&lt;A, H&gt;(); jobs.AddJob&lt;A, H2&gt;();</c>) or the chain's root expression.
    /// </summary>
    private sealed class BuilderRegistrations
    {
        private readonly ConcurrentQueue<(object Builder, ITypeSymbol Job, IInvocationOperation Invocation)> _items = new();

        public void Add(IInvocationOperation invocation, ITypeSymbol job)
        {
            if (job.TypeKind is TypeKind.TypeParameter or TypeKind.Error)
            {
                return;
            }

            _items.Enqueue((BuilderKey(invocation), job, invocation));
        }

        public void Report(OperationBlockAnalysisContext context)
        {
            foreach (var group in _items.GroupBy(i => i.Builder))
            {
                var seen = new Dictionary<ITypeSymbol, Location>(SymbolEqualityComparer.Default);
                // Order by the method name: every call of a fluent chain starts at the same position.
                foreach (var item in group.Select(i => (i.Job, i.Invocation, Location: NameLocation(i.Invocation))).OrderBy(i => i.Location.SourceSpan.Start))
                {
                    var location = item.Location;
                    if (seen.TryGetValue(item.Job, out var first))
                    {
                        var line = (first.GetLineSpan().StartLinePosition.Line + 1).ToString(CultureInfo.InvariantCulture);
                        context.ReportDiagnostic(Diagnostic.Create(Descriptors.DuplicateRegistration, location,
                            item.Job.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat), line));
                    }
                    else
                    {
                        seen.Add(item.Job, location);
                    }
                }
            }
        }

        private static object BuilderKey(IInvocationOperation invocation)
        {
            IOperation? receiver = invocation;
            while (true)
            {
                var next = receiver is IInvocationOperation call
                    ? call.Instance ?? (call.TargetMethod.IsExtensionMethod && call.Arguments.Length > 0 ? call.Arguments[0].Value : null)
                    : null;
                if (next is null)
                {
                    break;
                }

                receiver = Unwrap(next);
            }

            return receiver switch
            {
                IParameterReferenceOperation parameter => parameter.Parameter,
                ILocalReferenceOperation local => local.Local,
                IFieldReferenceOperation field => field.Field,
                _ => receiver!,
            };
        }
    }
}
