// The bulk job actions (retry, run now, cancel, delete) on a selection: a list of ids, or { filter } for "every job matching
// the list's filters" (acted on in batches by the server). Before the operator confirms, the dialog counts what the click
// would change, by the action's own conditions (a dry run on the server: api/jobs/{action}/preview), and names the first
// few of them.
import { el, num, toast, confirmAction, STATES } from './ui.js';
import { post } from './api.js';

/** The event app.js dispatches on document when the session the views act on changed (the server turned read-only, or back). */
export const SESSION_CHANGED = 'jobs-session-changed';

const ACTIONS = [
  { key: 'retry', text: 'Retry', title: 'Retry', help: 'Failed, cancelled and retrying jobs run again now.' },
  { key: 'run-now', text: 'Run now', title: 'Run now', help: 'Delayed jobs become due now.' },
  { key: 'cancel', text: 'Cancel', title: 'Cancel', help: 'Waiting jobs never run; running jobs are asked to stop.' },
  { key: 'delete', text: 'Delete', title: 'Delete', help: 'Jobs are removed from the store, whatever their state. This cannot be undone.', danger: true },
];

// A count that takes longer than this (a filter over millions of jobs, a stalled database) stops, and the dialog says the
// number is unknown: the preview never keeps the operator from acting.
const PREVIEW_LIMIT_MS = 20000;

function describe(selection) {
  if (!Array.isArray(selection)) return 'every job matching these filters';
  return selection.length === 1 ? '1 job' : `${num(selection.length)} jobs`;
}

const body = selection => Array.isArray(selection) ? { ids: selection } : { filter: selection.filter };
const noun = n => n === 1 ? 'job' : 'jobs';

/** The dialog's title, count line, and whether Confirm is on, for a preview { selected, wouldChange }. */
function previewText(action, selection, { selected, wouldChange }) {
  const ids = Array.isArray(selection);
  const which = ids ? 'selected' : 'matching';
  if (wouldChange === 0) {
    const count = selected === 0 ? (ids ? 'None of the selected jobs is stored any more.' : 'No job matches these filters now.')
      : selected === 1 ? `The ${which} job is not in a state ${action.text} changes.`
        : `None of the ${num(selected)} ${which} jobs is in a state ${action.text} changes.`;
    return { title: `${action.title}: nothing to change`, count, allow: false };
  }
  const others = selected - wouldChange;
  if (!ids) {
    return {
      title: `${action.title} ${num(wouldChange)} ${noun(wouldChange)} matching these filters?`,
      count: others > 0 ? `(of ${num(selected)} matching; the others are not in a state this action changes)` : '',
      allow: true,
    };
  }
  if (others <= 0) {
    return { title: selected === 1 ? `${action.title} this job?` : `${action.title} ${num(selected)} selected jobs?`, count: '', allow: true };
  }
  return {
    title: `${action.title} ${num(wouldChange)} of ${num(selected)} selected jobs?`,
    count: `(the other ${num(others)} ${others === 1 ? 'is' : 'are'} not in a state this action changes)`,
    allow: true,
  };
}

/**
 * The first jobs the action would change (the preview's sample, ids ascending), then "and N more" when it would change
 * more: list items whose ids are text nodes (el), so whatever the server sends shows as text, never as markup.
 */
function sampleItems({ wouldChange, sample }) {
  const ids = Array.isArray(sample) ? sample : [];
  const more = wouldChange - ids.length;
  return [...ids.map(id => el('li', { class: 'mono' }, String(id))),
    ids.length > 0 && more > 0 ? el('li', { class: 'muted' }, `and ${num(more)} more`) : null].filter(Boolean);
}

/** Fills the open dialog with the preview's numbers and sample; Confirm is off while counting, and on again if the count fails. */
async function preview(action, selection, dialog) {
  dialog.count('Counting the jobs this would change…');
  dialog.allow(false);
  try {
    const signal = AbortSignal.any([dialog.signal, AbortSignal.timeout(PREVIEW_LIMIT_MS)]);
    const result = await post(`jobs/${action.key}/preview`, body(selection), signal);
    const shown = previewText(action, selection, result);
    dialog.title(shown.title);
    dialog.count(shown.count);
    dialog.list(sampleItems(result));
    dialog.allow(shown.allow);
  } catch (e) {
    if (dialog.signal.aborted) return;   // the dialog closed: nothing to show
    const why = e.name === 'TimeoutError' ? `the count took longer than ${PREVIEW_LIMIT_MS / 1000} s` : `the count failed (${e.message})`;
    dialog.count(`How many of them this would change is unknown: ${why}.`);
    dialog.allow(true);
  }
}

/**
 * Keeps the open dialog's Confirm off, with the reason, while the session may not act (the server turned read-only while
 * the dialog was open: its refusal would otherwise come only on Confirm); when it may again, Confirm is as the count left it.
 */
function followSession(dialog, ctx) {
  const follow = () => dialog.blocked(ctx.session.canAct ? null : ctx.session.readOnlyReason);
  follow();
  document.addEventListener(SESSION_CHANGED, follow, { signal: dialog.signal });
}

async function runAction(action, selection, ctx) {
  const what = describe(selection);
  const reason = await confirmAction(`${action.title} ${what}?`, action.help, action.text, action.danger, dialog => {
    followSession(dialog, ctx);
    preview(action, selection, dialog);
  });
  if (reason === null) return null;
  try {
    const result = await post('jobs/' + action.key, { ...body(selection), reason });
    toast(Array.isArray(selection) ? `${action.text}: ${result.changed} of ${what} changed` : `${action.text}: ${result.changed} jobs changed`);
    ctx.refresh();
    return result;
  } catch (e) { toast(e.message, true); return null; }
}

// Which states an action can change (the detail page disables the others; a mixed selection in the list keeps them all).
const APPLIES = {
  retry: ['failed', 'cancelled', 'retrying'], 'run-now': ['pending', 'retrying'],
  cancel: ['pending', 'processing', 'retrying', 'paused'], delete: STATES,
};

/** The action buttons for selected() (ids, or { filter }); state: the one job's state on its page (disables the others). */
export function actionButtons(ctx, selected, onDone, state) {
  return ACTIONS.map(a => el('button', {
    type: 'button', class: 'btn' + (a.danger ? ' danger' : ''), 'data-action': a.key,
    disabled: !ctx.session.canAct || (Array.isArray(selected()) && selected().length === 0) || (state && !APPLIES[a.key].includes(state)),
    title: ctx.session.canAct ? a.help : ctx.session.readOnlyReason,
    onclick: async () => { const r = await runAction(a, selected(), ctx); if (r && onDone) onDone(a, r); },
  }, a.text));
}
