/** A set-up link or key shown once, with a button that copies it; the text stays selectable if copying is not allowed. */
import { byId } from '../console/dom.js';

export class ShownOnce {
  /** `name`: the page's elements are `{name}-shown` (the panel), `-message`, `-copy` and the panel's input. */
  constructor(private readonly name: string, private readonly say: (message: string) => void) {
    byId(`${name}-copy`).addEventListener('click', () => void this.copy());
  }

  show(message: string, value: string): void {
    byId(`${this.name}-message`).textContent = message;
    const field = byId(`${this.name}-shown`).querySelector('input') as HTMLInputElement;
    field.value = value;
    byId(`${this.name}-shown`).hidden = false;
    field.focus();
    field.select();
  }

  private async copy(): Promise<void> {
    const field = byId(`${this.name}-shown`).querySelector('input') as HTMLInputElement;
    try {
      await navigator.clipboard.writeText(field.value);
      this.say('Copied.');
    } catch {
      field.select();
      this.say('Copying was not allowed: the text is selected, copy it with Ctrl+C.');
    }
  }
}
