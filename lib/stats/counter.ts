/** A named event count (gem5 `Scalar`). `value` is a plain public field so the hot path is one add. */
export class Counter {
  readonly name: string;
  readonly doc: string;
  value: number;

  constructor(name: string, doc: string) {
    this.name = name;
    this.doc = doc;
    this.value = 0;
  }

  inc(): void {
    this.value++;
  }

  add(n: number): void {
    this.value += n;
  }

  reset(): void {
    this.value = 0;
  }
}
