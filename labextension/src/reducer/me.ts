/**
 * Who the user is to the library (`GET me`): an instructor may change the course library,
 * everyone else reads it. Until the server said, nobody is taken for an instructor, so no
 * control a student cannot use flashes up on the first view.
 */
import type { Action, State } from './state';

export type MeAction = Extract<Action, { type: 'me/loaded' }>;

export function reduceMe(state: State, action: MeAction): State {
  return { ...state, me: action.me };
}

/** Whether the user may add to, re-index and remove from the course library. */
export function isInstructor(state: State): boolean {
  return state.me?.instructor === true;
}
