import {
  GraphQLIncludeDirective, GraphQLSkipDirective, Kind, SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef,
  getArgumentValues, getDirectiveValues, getNamedType, getVariableValues, isInterfaceType, isObjectType,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type FragmentSpreadNode, type GraphQLField, type GraphQLNamedType,
  type GraphQLSchema, type InlineFragmentNode, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import { forbiddenCharacter } from '../core/text';

/**
 * The cost model (README "GRAPHQL_MAX_COST", docs/limits.md): roughly the number of values an operation can return.
 * A field with a selection costs {@link OBJECT_COST} plus its selection, times its `first` (or `last`) when it has
 * one, whether given literally, through a variable or by the argument's default; a leaf costs {@link SCALAR_COST};
 * fragments (named or inline) cost what their fields cost, as if written out; each filter in a `where` list adds
 * {@link FILTER_COST} (once per field, not per item: a filter is work on the whole table, not per row returned).
 */
export const OBJECT_COST = 2;
export const SCALAR_COST = 1;
export const FILTER_COST = 100;

/** Text in an argument that holds a forbidden character (see core/text). */
export interface BadText {
  /** The field the argument belongs to, e.g. `createRecord`. */
  field: string;
  /** The path inside the argument, e.g. `fields.lastName` or `where[0].value`. */
  argument: string;
  /** The first forbidden character, as `U+0000`. */
  character: string;
}

export interface OperationAnalysis {
  cost: number;
  badTexts: BadText[];
}

/**
 * Computes the cost of the operation about to run with its variables known, and finds forbidden characters in every
 * argument (JSON values and their keys included). Returns null when the variables do not fit the operation: execution
 * reports that itself. Each fragment is walked once whatever the number of its spreads, so the work stays linear in
 * the size of the document.
 */
export function analyseOperation(
  schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, rawVariables: Record<string, unknown>,
): OperationAnalysis | null {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables, { maxErrors: 1 });
  if (coerced.errors) return null;
  const variables = coerced.coerced;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentCosts = new Map<string, number>();
  const badTexts: BadText[] = [];

  const included = (node: FieldNode | InlineFragmentNode | FragmentSpreadNode): boolean => {
    if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
  };

  const fieldDefinition = (parent: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined => {
    if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
    if (parent && parent === schema.getQueryType()) {
      if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
      if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
    }
    return parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
  };

  const checkText = (field: string, value: unknown, path: string): void => {
    if (typeof value === 'string') {
      const character = forbiddenCharacter(value);
      if (character) badTexts.push({ field, argument: path, character });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => checkText(field, item, `${path}[${i}]`));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const character = forbiddenCharacter(key);
        if (character) badTexts.push({ field, argument: `${path} (a key)`, character });
        checkText(field, item, `${path}.${key}`);
      }
    }
  };

  const fieldCost = (node: FieldNode, parent: GraphQLNamedType | undefined): number => {
    const name = node.name.value;
    if (name === SchemaMetaFieldDef.name) return 0; // introspection is not limited, as before
    const definition = fieldDefinition(parent, name);
    let args: Record<string, unknown> = {};
    if (definition) {
      try {
        args = getArgumentValues(definition, node, variables);
      } catch {
        args = {}; // execution reports a bad argument itself
      }
    }
    for (const [argument, value] of Object.entries(args)) checkText(name, value, argument);
    if (!node.selectionSet) return SCALAR_COST;
    const size = [args.first, args.last].find((n): n is number => typeof n === 'number');
    const multiplier = Math.max(1, size ?? 1);
    const filters = Array.isArray(args.where) ? args.where.length * FILTER_COST : 0;
    const child = definition ? getNamedType(definition.type) : undefined;
    return (OBJECT_COST + selectionCost(node.selectionSet, child)) * multiplier + filters;
  };

  const selectionCost = (selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (!included(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        cost += fieldCost(selection, parent);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) ?? undefined : parent;
        cost += selectionCost(selection.selectionSet, type);
      } else {
        const name = selection.name.value;
        if (!fragmentCosts.has(name)) {
          fragmentCosts.set(name, 0); // a cycle (refused by validation anyway) cannot recurse forever
          const fragment = fragments.get(name);
          const type = fragment ? schema.getType(fragment.typeCondition.name.value) ?? undefined : undefined;
          fragmentCosts.set(name, fragment ? selectionCost(fragment.selectionSet, type) : 0);
        }
        cost += fragmentCosts.get(name)!;
      }
    }
    return cost;
  };

  const root = schema.getRootType(operation.operation) ?? undefined;
  return { cost: selectionCost(operation.selectionSet, root), badTexts };
}
