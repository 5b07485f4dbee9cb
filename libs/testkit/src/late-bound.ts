/**
 * Stands for a value a test hook makes later (say in `beforeAll`), so a suite can declare it with a
 * `const` and its tests use it directly. Methods are bound to the real value, so classes with
 * private fields work through it; touching it before the value exists is an error naming `what`.
 */
export function lateBound<T extends object>(current: () => T | undefined, what: string): T {
  return new Proxy({} as T, {
    get: (_target, key) => {
      const value = current();
      if (!value) throw new Error(`${what} is not started yet (reading ${String(key)})`);
      const member = Reflect.get(value, key);
      return typeof member === 'function' ? member.bind(value) : member;
    },
  });
}
