/**
 * The "course" mark on what comes from the course library (a citation, a document), so that
 * a student can tell the instructor's material from their own.
 */
import * as React from 'react';

import type { Library } from '../protocol';

export const COURSE_MARK_TITLE = 'From the course library';

/** The mark, for a course item; nothing for the user's own. */
export function CourseBadge(props: { library?: Library }): JSX.Element | null {
  if (props.library !== 'course') {
    return null;
  }
  // An image role: the short visible word stands for the full name screen readers say.
  return (
    <span
      className="jp-StudyMate-badge jp-StudyMate-courseBadge"
      role="img"
      aria-label={COURSE_MARK_TITLE}
      title={COURSE_MARK_TITLE}
    >
      course
    </span>
  );
}
