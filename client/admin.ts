/** The practice admin's page (/admin): people, API keys, recent changes. The parts are in admin/. */
import { AdminApp } from './admin/app.js';

new AdminApp().start();
