using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Jobs.Sdk.Generators.Helpers;
using Jobs.Sdk.Generators.Model;
using Jobs.Sdk.Generators.Shared;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    internal static partial class Parser
    {
        /// <summary>
        /// The name a file's names hold when it creates an object without naming its type (<c>new(...)</c>) or chains a
        /// constructor (<c>this(...)</c>, <c>base(...)</c>): such a call may reach any constructor.
        /// </summary>
        private const string ConstructorCallName = ".ctor";

        /// <summary>
        /// The simple names a file mentions (syntax only): the index <see cref="CloseRegistrationCallers"/> reads to find
        /// the files that may call a member by its name, so only those are bound.
        /// </summary>
        public static TreeCallNames ParseCallNames(SyntaxTree tree, CancellationToken cancellationToken)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var aliases = new HashSet<string>(StringComparer.Ordinal);
            foreach (var node in tree.GetRoot(cancellationToken).DescendantNodes())
            {
                if (node is SimpleNameSyntax name)
                {
                    names.Add(name.Identifier.ValueText);
                }
                else if (node is ImplicitObjectCreationExpressionSyntax or ConstructorInitializerSyntax)
                {
                    names.Add(ConstructorCallName);
                }
                else if (node is UsingDirectiveSyntax { Alias: { } alias })
                {
                    aliases.Add(alias.Name.Identifier.ValueText);
                }
            }

            return new TreeCallNames(tree.FilePath, names.OrderBy(n => n, StringComparer.Ordinal).ToEquatableArray(),
                aliases.OrderBy(n => n, StringComparer.Ordinal).ToEquatableArray());
        }

        /// <summary>
        /// The documentation comment ids, ordered, of the members callable outside this assembly from which its generated
        /// <c>AddGeneratedJobs()</c> is reached: the members naming it (<paramref name="seeds"/>) and, transitively, the
        /// methods, constructors and property getters of this assembly that call one of those (a wrapper of a wrapper, a
        /// public method calling a private helper, a constructor chained with <c>this(...)</c>), each call bound to check
        /// what it calls. Only calls whose target is known at compile time are followed: not a call of an interface member,
        /// nor of a virtual or abstract member (an override may not register), unless made through <c>base.</c> or the
        /// member cannot be overridden (sealed, or of a sealed type or a struct).
        /// </summary>
        /// <remarks>
        /// The work is bounded by the calls that reach the registration: each round binds only the names, in the files that
        /// mention them (<paramref name="files"/>), of the members the previous round reached; a library without a
        /// member naming <c>AddGeneratedJobs</c> binds nothing.
        /// </remarks>
        public static EquatableArray<string> CloseRegistrationCallers(
            EquatableArray<string> seeds, ImmutableArray<TreeCallNames> files, Compilation compilation, CancellationToken cancellationToken)
        {
            if (seeds.Count == 0)
            {
                return EquatableArray<string>.Empty;
            }

            var reached = new Dictionary<string, IMethodSymbol>(StringComparer.Ordinal);
            var frontier = new List<IMethodSymbol>();
            foreach (var id in seeds)
            {
                foreach (var symbol in DocumentationCommentId.GetSymbolsForDeclarationId(id, compilation))
                {
                    if (symbol is IMethodSymbol method && SymbolEqualityComparer.Default.Equals(method.ContainingAssembly, compilation.Assembly)
                        && Reach(reached, id, method))
                    {
                        frontier.Add(method);
                    }
                }
            }

            CloseCallers(reached, frontier, files, compilation, ownRegistration: true, cancellationToken);
            return Callable(reached, compilation);
        }

        /// <summary>
        /// Adds to <paramref name="reached"/>, transitively, this assembly's members that call a member of
        /// <paramref name="frontier"/> (this assembly's, or a referenced one's), each call bound to check what it calls. A call of
        /// a referenced assembly's <c>AddGeneratedJobs()</c> (as its friend) counts only when it names that assembly's class,
        /// where <paramref name="ownRegistration"/> says this assembly has its own, which such a call spelled as an extension
        /// then runs instead.
        /// </summary>
        private static void CloseCallers(Dictionary<string, IMethodSymbol> reached, List<IMethodSymbol> frontier,
            ImmutableArray<TreeCallNames> files, Compilation compilation, bool ownRegistration, CancellationToken cancellationToken)
        {
            var models = new Dictionary<SyntaxTree, SemanticModel>();
            ILookup<string, SyntaxTree>? trees = null;
            var aliases = new HashSet<string>(files.SelectMany(f => f.Aliases), StringComparer.Ordinal);
            while (frontier.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var targets = new HashSet<string>(frontier.Select(TargetKey).OfType<string>(), StringComparer.Ordinal);
                var names = new CallTargets(aliases);
                foreach (var method in frontier)
                {
                    names.Add(CallName(method), method);
                    if (method.MethodKind == MethodKind.Constructor)
                    {
                        names.Add(ConstructorCallName, method);
                    }
                }

                var next = new List<IMethodSymbol>();
                var paths = new HashSet<string>(StringComparer.Ordinal);
                foreach (var file in files)
                {
                    if (!names.Names.Any(n => Mentions(file, n)) || !paths.Add(file.Path))
                    {
                        continue;
                    }

                    trees ??= compilation.SyntaxTrees.ToLookup(t => t.FilePath, StringComparer.Ordinal);
                    foreach (var tree in trees[file.Path])
                    {
                        foreach (var node in tree.GetRoot(cancellationToken).DescendantNodes())
                        {
                            if (!names.MayCall(node))
                            {
                                continue;
                            }

                            if (!models.TryGetValue(tree, out var model))
                            {
                                models.Add(tree, model = compilation.GetSemanticModel(tree));
                            }

                            if (Called(node, model, cancellationToken) is { } callee
                                && TargetKey(callee) is { } calleeKey && targets.Contains(calleeKey)
                                && IsBoundAtCompileTime(callee, node)
                                && (!ownRegistration || !IsFriendRegistrationAsExtension(callee, node, model, compilation, cancellationToken))
                                && ContainingCaller(node, model, cancellationToken) is { } caller
                                && RegistrationCallerIds.Of(caller) is { } callerId
                                && Reach(reached, callerId, caller))
                            {
                                next.Add(caller);
                            }
                        }
                    }
                }

                frontier = next;
            }
        }

        /// <summary>The ids, ordered, of this assembly's reached members that another assembly can call.</summary>
        private static EquatableArray<string> Callable(Dictionary<string, IMethodSymbol> reached, Compilation compilation)
            => reached
                .Where(r => SymbolEqualityComparer.Default.Equals(r.Value.ContainingAssembly, compilation.Assembly) && IsCallableOutside(r.Value))
                .Select(r => r.Key)
                .OrderBy(id => id, StringComparer.Ordinal)
                .ToEquatableArray();

        /// <summary>A member's id with its assembly's name: a referenced assembly may declare a member of the same id.</summary>
        private static string? TargetKey(IMethodSymbol method)
            => RegistrationCallerIds.Of(method) is { } id ? method.ContainingAssembly?.Name + "|" + id : null;

        /// <summary>
        /// Whether the node calls a referenced assembly's generated <c>AddGeneratedJobs()</c> as an extension (<c>jobs.AddGeneratedJobs()</c>):
        /// in an assembly with a registration of its own, which the generator does not see, that call runs this assembly's.
        /// </summary>
        private static bool IsFriendRegistrationAsExtension(IMethodSymbol callee, SyntaxNode node, SemanticModel model, Compilation compilation, CancellationToken cancellationToken)
            => callee.Name == KnownNames.AddGeneratedJobsMethodName
                && !SymbolEqualityComparer.Default.Equals(callee.ContainingAssembly, compilation.Assembly)
                && !(node.Parent is MemberAccessExpressionSyntax access && access.Name == node
                    && model.GetSymbolInfo(access.Expression, cancellationToken).Symbol is INamedTypeSymbol);

        /// <summary>Adds a member reached for the first time (netstandard2.0 has no <c>Dictionary.TryAdd</c>).</summary>
        private static bool Reach(Dictionary<string, IMethodSymbol> reached, string id, IMethodSymbol member)
        {
            if (reached.ContainsKey(id))
            {
                return false;
            }

            reached.Add(id, member);
            return true;
        }

        /// <summary>The name a call of the member spells: a method's, a constructor's type's, a property's.</summary>
        private static string CallName(IMethodSymbol method) => method switch
        {
            { MethodKind: MethodKind.Constructor } => method.ContainingType.Name,
            { MethodKind: MethodKind.PropertyGet, AssociatedSymbol: { } property } => property.Name,
            _ => method.Name,
        };

        private static bool Mentions(TreeCallNames file, string name)
        {
            int low = 0, high = file.Names.Count - 1;
            while (low <= high)
            {
                var middle = low + ((high - low) / 2);
                var order = string.CompareOrdinal(file.Names[middle], name);
                if (order == 0)
                {
                    return true;
                }

                if (order < 0)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle - 1;
                }
            }

            return false;
        }

        /// <summary>
        /// The method, constructor or property getter the node calls (or hands over as a method group), as declared;
        /// <see langword="null"/> for anything else, and for a property only assigned.
        /// </summary>
        private static IMethodSymbol? Called(SyntaxNode node, SemanticModel model, CancellationToken cancellationToken)
        {
            var method = model.GetSymbolInfo(node, cancellationToken).Symbol switch
            {
                IMethodSymbol called => called,
                IPropertySymbol { IsIndexer: false } property when !IsAssigned(node) => property.GetMethod,
                _ => null,
            };
            if (method is null)
            {
                return null;
            }

            method = (method.ReducedFrom ?? method).OriginalDefinition;
            return method.PartialDefinitionPart ?? method;
        }

        /// <summary>Whether the property named by <paramref name="node"/> is the target of a plain assignment (its setter runs, not its getter).</summary>
        private static bool IsAssigned(SyntaxNode node)
        {
            var target = node.Parent is MemberAccessExpressionSyntax access && access.Name == node ? access : node;
            return target.Parent is AssignmentExpressionSyntax assignment && assignment.IsKind(SyntaxKind.SimpleAssignmentExpression)
                && assignment.Left == target;
        }

        /// <summary>
        /// Whether a call of <paramref name="callee"/> at <paramref name="node"/> runs that member's own body: a constructor, a
        /// static member, a member that cannot be overridden, or a call through <c>base.</c>. An interface member, or a virtual
        /// or abstract one, runs whatever implementation the object has, which the library cannot know (an override in the
        /// Worker among them): such calls are not followed.
        /// </summary>
        private static bool IsBoundAtCompileTime(IMethodSymbol callee, SyntaxNode node)
        {
            if (callee.MethodKind == MethodKind.Constructor)
            {
                return true;
            }

            if (callee.IsStatic)
            {
                return !callee.IsVirtual && !callee.IsAbstract;
            }

            if (callee.ContainingType.TypeKind == TypeKind.Interface)
            {
                return false;
            }

            var overridable = callee.IsVirtual || callee.IsAbstract || (callee.IsOverride && !callee.IsSealed);
            return !overridable || callee.ContainingType.IsSealed || callee.ContainingType.IsValueType
                || node.Parent is MemberAccessExpressionSyntax { Expression: BaseExpressionSyntax } access && access.Name == node;
        }
    }
}
