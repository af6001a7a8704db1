import type { GraphQLResolveInfo, SelectionSetNode } from 'graphql';

/**
 * Whether the operation selects `path` (response field names, e.g. `['nodes', 'owner']`) under the field being
 * resolved, through fragments and aliases. `@skip`/`@include` are not read: a skipped field counts as selected, so a
 * resolver that prepares for it does work nobody reads, never less than needed.
 */
export function selectsPath(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, path: readonly string[]): boolean {
  const reaches = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): boolean => {
    if (!set) return false;
    for (const selection of set.selections) {
      if (selection.kind === 'Field') {
        if (selection.name.value !== path[depth]) continue;
        if (depth === path.length - 1 || reaches(selection.selectionSet, depth + 1, seen)) return true;
      } else if (selection.kind === 'InlineFragment') {
        if (reaches(selection.selectionSet, depth, seen)) return true;
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        if (reaches(info.fragments[selection.name.value]?.selectionSet, depth, seen)) return true;
        seen.delete(selection.name.value);
      }
    }
    return false;
  };
  return info.fieldNodes.some((node) => reaches(node.selectionSet, 0, new Set()));
}

/**
 * Whether every field the operation selects at `path` (under the field being resolved, through fragments and aliases)
 * is one of `allowed` — true also when `path` is not selected at all. For a resolver that may read less than a whole
 * object when nothing more is asked of it.
 */
export function selectsOnly(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, path: readonly string[], allowed: ReadonlySet<string>): boolean {
  const within = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): boolean => {
    if (!set) return true;
    for (const selection of set.selections) {
      if (selection.kind === 'Field') {
        if (depth === path.length) {
          if (!allowed.has(selection.name.value)) return false;
        } else if (selection.name.value === path[depth] && !within(selection.selectionSet, depth + 1, seen)) {
          return false;
        }
      } else if (selection.kind === 'InlineFragment') {
        if (!within(selection.selectionSet, depth, seen)) return false;
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const ok = within(info.fragments[selection.name.value]?.selectionSet, depth, seen);
        seen.delete(selection.name.value);
        if (!ok) return false;
      }
    }
    return true;
  };
  return info.fieldNodes.every((node) => within(node.selectionSet, 0, new Set()));
}
