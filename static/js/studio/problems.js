// The list of deploy-check problems beside the editor. Each problem is a button, so it can
// be reached and followed with the keyboard.

import { counted } from './plural.js';

export class ProblemList {
  constructor({ list, summary, text, describe, onPick }) {
    this.list = list;
    this.summary = summary;
    this.text = text;
    this.describe = describe; // problem -> element label, or ''
    this.onPick = onPick;
    this.problems = [];
  }

  show(problems) {
    this.problems = problems || [];
    const count = this.problems.length;
    this.summary.textContent = count === 0 ? this.text.noProblems
      : counted(this.text.problems, count);
    this.summary.classList.toggle('text-danger', count > 0);
    this.summary.classList.toggle('text-success', count === 0);
    this.list.replaceChildren(...this.problems.map((problem) => this.item(problem)));
  }

  item(problem) {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'plaint-problem-link';
    if (problem.element_id) {
      button.dataset.elementId = problem.element_id;
    }
    const where = document.createElement('span');
    where.className = 'plaint-problem-where';
    where.dir = 'auto'; // file names and ids read left to right, a name in Arabic right to left
    const element = problem.element_id ? ` · ${this.describe(problem) || problem.element_id}` : '';
    const line = problem.line ? `:${problem.line}` : '';
    where.textContent = `${problem.file || ''}${line}${element}`;
    const message = document.createElement('span');
    message.className = 'plaint-problem-message';
    message.textContent = problem.message;
    button.append(where, message);
    button.addEventListener('click', () => this.onPick(problem));
    item.append(button);
    return item;
  }

  /** How many problems name each file, for the badges on the tabs. */
  countsByFile() {
    const counts = new Map();
    for (const problem of this.problems) {
      counts.set(problem.file, (counts.get(problem.file) || 0) + 1);
    }
    return counts;
  }
}
