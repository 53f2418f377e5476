// The `express4` devDependency is `npm:express@4`: the same API as the typed Express 5 for our tests.
declare module 'express4' {
  import express from 'express';
  export default express;
}
